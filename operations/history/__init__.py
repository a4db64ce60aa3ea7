"""The run history: what every fleet operation and review recorded per customer (model.py), where it
is kept (store.py), how a run is recorded (record.py) and shown (render.py)."""
