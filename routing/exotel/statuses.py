"""The words of a call's state, each spelled once: Exotel's and ours.

An offer's outcome is how one dialled number ended: Exotel's `DialCallStatus`
(a leg's status in Connect events), or one of ours (pending, expired). A call's
result says how the whole call ended. The models' choices
(`routing.models.Outcome`, `CallResult`), the parsers and the engine read these.
"""

# An offer's outcome.
PENDING = "pending"
COMPLETED = "completed"  # answered, and the conversation is over
BUSY = "busy"
NO_ANSWER = "no-answer"
FAILED = "failed"
CANCELED = "canceled"
EXPIRED = "expired"  # ours: no news within the group's hold time

# What Exotel reports of a dialled number (DialCallStatus, a leg's Status).
DIAL_CALL_STATUSES = frozenset({COMPLETED, BUSY, NO_ANSWER, FAILED, CANCELED})

# A call's result.
IN_PROGRESS = "in-progress"
ANSWERED = "answered"
NOT_ANSWERED = "not-answered"
ABANDONED = "abandoned"  # the caller hung up before anyone answered
BLOCKED = "blocked"  # a known caller marked blocked (DESIGN 10.3)
