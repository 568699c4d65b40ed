"""A local stand-in for Slack speaking its wire protocol: Web API, Socket Mode, signed HTTP.

The bot under test cannot tell it from Slack: it is pointed at it with SLACK_API_BASE_URL,
and `apps.connections.open` hands it this stand-in's WebSocket URL.
"""
