"""Press-office review app: staff read conversations, handle visitor requests
and flag answers to improve (GitHub issue 5).

The app reads Rasa's tracker store table `events` and the `visitor_requests`
table directly; its own tables (users, sessions, review status, tags,
corrections, audit log) live in the same database (`bot.review.models`).
"""
