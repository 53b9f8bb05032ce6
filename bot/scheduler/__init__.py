"""Nudge delivery: the outbox in SQLite is the plan, APScheduler 3.11 keeps it moving.

Design (issue 5)
    **The `nudges` table IS the persistent plan.** `bot.core.nudges.plan_nudges` (pure)
    lists a user's nudges due in the next 48 h; `Storage.add_planned` writes them with
    INSERT OR IGNORE on (user, kind, due_at) and skips any whose `payload.ref` (the session
    instant, the month) is already in the table, so planning is idempotent and one session
    never gets two nudges. A change to a user's schedule, time zone, lead time, quiet hours
    or pause calls `bot.core.nudges.replan`, which deletes that user's *pending future* rows
    and inserts the new plan in one transaction: the change takes effect immediately.

    APScheduler (`AsyncIOScheduler`, UTC) runs two kinds of job:
    - `nudge-horizon`, an interval job (hourly): extends the plan to at least now + 48 h,
      only by what is missing. Each user has a bookmark, `users.planned_until` (schema
      v4): every nudge of theirs whose nudge time is before it is in the outbox. A pass
      lists, by an index, only the users whose bookmark is before the new horizon, and
      plans [bookmark, `plan_until(user, horizon)`) for each: up to the user's next weekly
      planning instant, an instant of the week taken from their id. So each user is looked
      at once a week, and an hourly pass looks at 1/168th of them (600 at 100,000 users),
      whenever their sessions are and whatever day a zone's monthly check-ins fall on; the
      outbox holds 2 to 9 days of future. `replan` clears it, so a user who changed something is
      planned from now at the next pass; so is one whose plan ended in the past (the bot
      was down). Only the first pass on a file plans every user (a new file, or one
      migrated from v3). The pass runs in slices of ~4 ms (read, plan, write and commit
      without yielding, so no coach turn re-plans a user half-way; then
      `await asyncio.sleep`), so a reply waits a few ms behind planning, not a pass.
      Every 4 slices a worker thread checkpoints SQLite's write-ahead log on its own
      connection: otherwise the commit that takes the log past 1,000 pages does it, with
      its fsyncs, on the event loop (50-200 ms, the longest holds of a pass).
      Its first pass runs once the dispatchers have sent what is already due (5 min at
      most): pending rows are already in the file, so start-up is "recover, then
      dispatch", and after a restart that pass only covers the hours the bot was away.
      While a dispatcher works through due nudges, the pass rests 4x each slice's time
      (at most a fifth of the CPU).
    - `nudge-wake-<platform>`, a DateTrigger re-armed for the next due time whenever a
      dispatcher runs out of due rows (plus a short poll, so rows added by the coach —
      snoozes, re-plans — are seen within seconds). It is a coroutine job, so APScheduler
      runs it on the event loop rather than in a worker thread.

    **Send times planned ahead** (issue 20). When 100,000 users train at 18:00, their
    nudges are due in the same minute; at 30 msg/s the last would go 56 min late. So a
    planning pass gives each nudge a `send_at` inside its window (`bot.core.nudges`: a
    pre-workout one up to half its lead early, massage and weekly up to 2 h, never in quiet
    hours): the latest free slot of its platform's rate (`bot.core.send_slots`, one slot per
    1/rate s; `bot.scheduler.plan_ahead`), counting the slots the outbox already holds
    (`Outbox.send_load`, read by the first pass after a start, ten minutes at a time, and
    kept an hour at a time from pass to pass: a pass plans up to a week past its horizon,
    and reading those hours afresh each pass would read the whole outbox every hour). With
    several workers the planner keeps its role from pass to pass, so the slots it keeps
    count every row planned beyond the horizon. With room a nudge is sent at its
    due time; a crowded minute fills the slots before it, as far back as the windows allow;
    a full window sends late, in order, and never takes a slot after its session starts.
    Re-plans by the coach write rows at their due time (the coach knows no rates), inside
    the horizon; the next pass's plans from now (new and re-planned users) read those hours
    afresh (up to 4 a pass) and count them. `NudgeService(plan_ahead=False)`: everything
    at its due time (the baseline of bench/nudge_lateness.py). Only the planner's rows are
    spread: a snooze goes at its time.

    One dispatcher task per platform sends due rows in order of send time. Every nudge is
    in the table before it is sent and moves `pending -> sending -> sent | failed`, or to
    `missed` / `skipped` with a reason. Rendering (routine from current soreness, massage
    target check) takes a send permit; the rendered rows are then claimed together
    (`pending -> sending`, one commit for as many as the permits allow), and each HTTP
    call starts in its slot of the global rate; after it, the row is marked.
    `sent` marks are written in the next claim's transaction (or 50 ms later when no claim
    comes). The commit is most of a claim's cost, so one per group rather than two per
    nudge. A stop or a 429 puts claimed rows whose request had not started back to
    `pending` (the claim's attempt undone).

    Rates: one paced global rate per platform (`telegram_send_rate`, default 25/s;
    `discord_send_rate`), at most one message per second and one request in flight per
    chat, and at most as many concurrent sends as there are send permits: the rate x the
    round trip x 2 (Little's law with headroom), at least 10 ms of sends, at most 64.
    That is 5-6 at 25/s and 100 ms, 10 at 1000/s on a local network, and at most 640/s
    at 100 ms. The round trip is the fastest send of the last 5 minutes, measured from
    the answers. Not an average: a send's duration also counts any wait inside the
    messenger (a rate limiter, a connection pool), and permits sized to that let more
    sends queue there and measure longer still (with PTB's overall limit at the same
    rate as the pacer, 35 of 64 permits and replies waiting ~1 s behind nudges).
    `RETRY_LATER` (429) puts the row back to `pending` and pauses the whole platform
    sender for `retry_after`; `BLOCKED` marks the user unreachable and the row `failed`;
    unreachable and paused users are not nudged (their due rows are closed with a reason).

    Start-up: rows left in `sending` by a dead process are marked `failed` with
    "interrupted: delivery unknown" and are NOT resent; pending rows more than
    `BOT_NUDGE_GRACE_MINUTES` (15) overdue become `missed`; the rest are sent.

Delivery guarantee — honestly
    At most once. A nudge is never sent twice, also across kill -9: a row is only sent
    after its claim committed, and a claimed row is never sent again. What a kill leaves:
    - Telegram carried out the send, the answer had not come back: the user has the nudge,
      the row says `failed` "interrupted: delivery unknown". Nothing is lost or doubled
      (tests/test_nudge_crash.py kills the bot exactly there: every user gets exactly one).
    - The claim had committed, the request had not reached Telegram yet: that nudge is
      lost, recorded the same way. This window is the wait for the row's slot of the global
      rate (at most one send interval per permit), our code up to the socket write, and the
      request's transit. Telegram has no idempotency key, so closing it would risk sending
      twice instead.
    How many a kill leaves unknown: the rows holding a permit, at most the permits (above).
    On average that is the rate x the round trip, the sends in flight: at 25/s and a 100 ms
    round trip about 3 (2.5; at most the 5-6 permits), at 1000/s on a local network a few
    (at most 10).
    Sizing the permits to the round trip is what keeps the rate (with one send at a time,
    25/s became 9.6/s at 100 ms); the price is this window, which grows with the round trip.
    Everything not yet claimed is sent after a restart within the grace period.

On PostgreSQL (`store.blocking`) the same service runs on an event loop of its own in a
thread (`run_nudges_beside`): its database calls then never hold the bot's loop, and its
sends hop over to that loop. `users_to_plan` is read inside the planning slice's
transaction, so a store that locks the listed users keeps a turn's re-plan of one of
them waiting until the slice's plan is written (and then replacing it).

Several workers on one PostgreSQL database (`SharedOutbox`, docs/scaling.md): each runs
this service. Claims are stamped with the worker's id and SKIP LOCKED, so each row goes to
one worker; each send first takes a token from the platform's bucket in the database (the
rate is the token's, shared), and a 429 empties it for everyone; the planning pass runs
under the `planner` role, one worker at a time; start-up fails only the rows of dead
workers and marks overdue rows missed only when it starts alone; and a caught-up worker
fails a dead worker's rows left in `sending` (at most once a second), so the survivors
close them without a restart.
"""

from bot.scheduler.beside import run_nudges_beside
from bot.scheduler.service import NudgeService, Pacer, run_nudges

__all__ = ["NudgeService", "Pacer", "run_nudges", "run_nudges_beside"]
