"""Load benchmark of the Rasa server over the REST channel (`make bench`, docs/benchmarks.md).

- `conversations`: scripted German conversations of 12-20 turns;
- `client`: an asyncio client with bounded concurrency and its statistics;
- `targets`: "target factories" that start one configuration and yield its URL
  and the PIDs to measure (`make run`'s, Rasa's default pipeline, production);
- `reference`: Rasa's default pipeline trained once on the same data (cached);
- `report`: the tables in docs/benchmarks.md.
"""
