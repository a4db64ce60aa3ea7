"""`fleet preview|up|refresh|drift`: one operation over many customers. The result models (models.py),
the engine path per customer (customer.py), the operation as a whole (operation.py), shards
(shards.py), merged reports (merge.py), and the table, JSON and live progress (render.py)."""
