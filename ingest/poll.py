"""What one poll of `ingest follow` is asked to do (`Options`, from its command line) and
what it did (`PollReport`, the summary line after it)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Options:
    """The knobs of `ingest follow` (see its --help)."""

    delay: float = 1.0
    max_new: int = 200
    since: str | None = None
    gone_after: float = 3 * 86400.0
    prune_gone: bool = False
    quiet: bool = False


@dataclass
class PollReport:
    """What one poll did; `line()` is the summary printed after it."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: list[str] = field(default_factory=list)  # one line each, no secrets
    robots: int = 0
    gone: int = 0
    withdrawn: int = 0
    left: int = 0
    old: int = 0
    waiting: int = 0
    not_modified: int = 0  # sources that answered 304
    requests: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        """One line: new, updated, unchanged, failed, skipped by robots.txt, and the rest
        only when it happened."""
        parts = [
            f"{self.new} new",
            f"{self.updated} updated",
            f"{self.unchanged} unchanged",
            f"{len(self.failed)} failed",
            f"{self.robots} skipped by robots.txt",
        ]
        extra = [
            (self.not_modified, "sources not modified (304)"),
            (self.gone, "gone (404/410)"),
            (self.withdrawn, "withdrawn"),
            (self.waiting, "waiting for their host (Retry-After)"),
            (self.old, "older than --since"),
            (self.left, "left for the next poll (--max-new)"),
        ]
        parts += [f"{count} {what}" for count, what in extra if count]
        return f"{', '.join(parts)}; {self.requests} requests in {self.seconds:.1f} s"
