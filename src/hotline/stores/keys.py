"""Every Redis key and channel hotline uses, with its type and lifetime. Nothing else
spells a key: grep here first.

All keys live under one prefix so several hotline sites can share a Redis (give each its
own prefix) and so `redis-cli --scan --pattern 'hotline:*'` lists everything of ours.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Keys:
    prefix: str = "hotline"

    # -- live state (rebuilt from Asterisk on every controller (re)connect) ---------------

    @property
    def calls(self) -> str:
        """HASH call_id -> JSON of the call in progress. Deleted when the call ends."""
        return f"{self.prefix}:live:calls"

    @property
    def agents(self) -> str:
        """HASH agent (MemberName) -> JSON of the agent's state. Lives while logged in."""
        return f"{self.prefix}:live:agents"

    @property
    def queues(self) -> str:
        """HASH queue -> JSON of the queue (waiting callers, members, service level)."""
        return f"{self.prefix}:live:queues"

    @property
    def alerts(self) -> str:
        """HASH alert id -> JSON of the watchdog's alert (latest version). Kept a day."""
        return f"{self.prefix}:live:alerts"

    @property
    def notes(self) -> str:
        """HASH note id -> JSON of a note to an agent or a supervisor (the watchdog's
        escalation steps). Notes older than a day are deleted by the controller."""
        return f"{self.prefix}:live:notes"

    @property
    def settings(self) -> str:
        """HASH name -> JSON of a switch supervisors set live ("notice": the IVR
        announcement on, with who and when)."""
        return f"{self.prefix}:live:settings"

    @property
    def seq(self) -> str:
        """STRING counter: the sequence number of the last change written (INCR)."""
        return f"{self.prefix}:live:seq"

    @property
    def feed(self) -> str:
        """STREAM of changes (fields: seq, kind, id, doc); capped near FEED_LENGTH entries.

        A reader loads the snapshot, then follows the feed from the snapshot's stream id;
        a seq that is not the previous + 1 means it missed changes and must reload.
        """
        return f"{self.prefix}:live:feed"

    @property
    def generation(self) -> str:
        """STRING: bumped when the controller replaces the whole snapshot (resync)."""
        return f"{self.prefix}:live:generation"

    @property
    def controller_status(self) -> str:
        """STRING JSON {t, ami_connected, event_lag_ms, resyncs}: the controller's heartbeat,
        rewritten each second, expiring after STATUS_TTL s (absent: no controller)."""
        return f"{self.prefix}:controller:status"

    # -- intents and jobs (durable: Redis with appendonly) ---------------------------------

    @property
    def members(self) -> str:
        """HASH "queue|interface" -> JSON member intent (name, paused, reason, by).

        What hotline asked Asterisk for; re-applied after an Asterisk restart, because
        persistentmembers = no empties the queues.
        """
        return f"{self.prefix}:desired:members"

    @property
    def commands(self) -> str:
        """STREAM of agent/supervisor commands for the running controller."""
        return f"{self.prefix}:commands"

    def reply(self, command_id: str) -> str:
        """LIST holding the controller's reply to one command; expires after REPLY_TTL s."""
        return f"{self.prefix}:reply:{command_id}"

    @property
    def queuelog_position(self) -> str:
        """STRING JSON {offset, identity}: where the controller reads queue_log from after a
        restart (the first line of the oldest call it has not finished with; identity is
        the file's [st_dev, st_ino])."""
        return f"{self.prefix}:queuelog:position"

    @property
    def stt_jobs(self) -> str:
        """STREAM of speech-to-text jobs (one per recorded leg), consumed by STT workers."""
        return f"{self.prefix}:stt:jobs"

    @property
    def stt_dead(self) -> str:
        """STREAM of dead-lettered STT jobs: the job's fields + reason, error, attempts,
        worker, t. Kept until an operator deals with them (XDEL / re-XADD to stt_jobs)."""
        return f"{self.prefix}:stt:dead"

    @property
    def stt_done(self) -> str:
        """STREAM of finished STT jobs (call_id, leg, engine, audio_ms, took_ms, worker);
        capped near STT_DONE_LENGTH entries; throughput is read from it."""
        return f"{self.prefix}:stt:done"

    @property
    def stt_stats(self) -> str:
        """HASH of STT counters since the stream was made: done, retried, dead, audio_ms,
        busy_ms, integrity."""
        return f"{self.prefix}:stt:stats"

    @property
    def stt_workers(self) -> str:
        """HASH consumer -> JSON heartbeat of each STT worker (pid, engine, job, t_seen)."""
        return f"{self.prefix}:stt:workers"


FEED_LENGTH = 50_000
STT_GROUP = "stt-workers"  # the consumer group of the STT job stream
STT_DONE_LENGTH = 10_000
REPLY_TTL = 60
STATUS_TTL = 5
KEYS = Keys()
