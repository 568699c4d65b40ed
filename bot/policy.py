"""Who may ask where: allowed channels, members of the installing workspace or org, admins.

Slack Connect channels hold people from other organisations; by default only members of the
workspace (or Enterprise Grid org) that installed the app are answered. A payload names the
asker's team (`user_team`, else `team`): the app's own team or org passes at once; another
team of an org-installed app is looked up with `users.info` (the person's org, kept for
10 minutes); anyone else is an outsider unless ALLOW_EXTERNAL_USERS is set. A payload that
names no team (App Home, assistant threads) is decided by the person's own team and org from
`users.info`; when that lookup fails, the person counts as an outsider for this request.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.guards import Clock
from core.sections import SlackSettings

log = logging.getLogger(__name__)

# How long what `users.info` said about a person is trusted: someone made an admin, demoted,
# or moved to another org is seen within this, at one lookup per person per period.
PROFILE_TTL = 600.0


@dataclass(frozen=True)
class Identity:
    """Who the app is, from `auth.test`."""

    team_id: str | None
    enterprise_id: str | None
    bot_user_id: str | None

    @classmethod
    def of(cls, client: WebClient) -> Identity:
        """Ask Slack (`auth.test`)."""
        found = client.auth_test()
        return cls(found.get("team_id"), found.get("enterprise_id"), found.get("user_id"))


class Policy:
    """Answers "may this person ask here?" and "does this person run the bot?".

    Args:
        slack: ALLOWED_CHANNELS, ALLOW_EXTERNAL_USERS, BOT_ADMINS.
        identity: The app's team, org and bot user.
        profile_ttl: Seconds a person's `users.info` profile is trusted.
        clock: Monotonic seconds (a test's own clock).
    """

    def __init__(
        self,
        slack: SlackSettings,
        identity: Identity,
        profile_ttl: float = PROFILE_TTL,
        clock: Clock = time.monotonic,
    ):
        self.slack, self.identity = slack, identity
        self.profile_ttl, self.clock = profile_ttl, clock
        self._users: dict[str, tuple[float, dict[str, object]]] = {}
        self._lock = threading.Lock()

    def allowed(self, channel: str) -> bool:
        """True where the bot answers: anywhere when ALLOWED_CHANNELS is empty, and in DMs."""
        allowed = self.slack.allowed_channels
        return not allowed or channel in allowed or channel.startswith("D")

    def insider(self, client: WebClient, user: str, team: str | None) -> bool:
        """True for members of the installing workspace or org (or anyone, when external
        users are allowed); `team` None: as `users.info` says (an outsider if it cannot)."""
        home = {self.identity.team_id, self.identity.enterprise_id} - {None}
        if self.slack.allow_external_users or (team and team in home):
            return True
        org = self.identity.enterprise_id
        profile = self._profile(client, user)
        inside = bool(org) and profile.get("enterprise_id") == org
        if not team:  # the payload does not say: the person's own team does
            inside = inside or profile.get("team_id") in home
        if not inside:
            log.info("not answering user %s of team %s (another organisation)", user, team)
        return inside

    def knows(self, user: str, team: str | None) -> bool:
        """Whether `insider` can decide without asking Slack (no `users.info` call): external
        users are allowed, the payload names the app's own team or org, or what Slack said
        about the person is still fresh."""
        home = {self.identity.team_id, self.identity.enterprise_id} - {None}
        if self.slack.allow_external_users or (team and team in home):
            return True
        with self._lock:
            cached = self._users.get(user)
        return cached is not None and self.clock() - cached[0] < self.profile_ttl

    def admin(self, client: WebClient, user: str) -> bool:
        """True for whoever runs the bot: BOT_ADMINS, and the workspace's admins and owners
        (an admin of another organisation is not one of ours: ask `insider` first)."""
        if user in self.slack.admins:
            return True
        profile = self._profile(client, user)
        return bool(profile.get("is_admin") or profile.get("is_owner"))

    def _profile(self, client: WebClient, user: str) -> dict[str, object]:
        """What `users.info` says about a person's org and role ({} when unknown). Cached
        for `profile_ttl` seconds, so a change of role or org is seen within that; a failure
        is not cached: one failed lookup must not make a colleague an outsider (or an admin
        not one) for a whole period."""
        now = self.clock()
        with self._lock:
            cached = self._users.get(user)
            if cached is not None and now - cached[0] < self.profile_ttl:
                return cached[1]
        try:
            found = client.users_info(user=user).get("user") or {}
        except SlackApiError as exc:
            log.info("users.info failed: %s", exc.response.get("error"))
            return {}
        except OSError as exc:  # Slack unreachable even after the client's retries
            log.warning("users.info failed: %s", type(exc).__name__)
            return {}
        enterprise = found.get("enterprise_user") or {}
        profile = {
            "team_id": found.get("team_id"),
            "enterprise_id": enterprise.get("enterprise_id"),
            "is_admin": found.get("is_admin"),
            "is_owner": found.get("is_owner"),
        }
        with self._lock:
            self._users[user] = (now, profile)
        return profile
