"""Proof of a deployment in the user's own sandbox account (``python -m ddb_datapipeline acceptance``), and
the parts of it the local drill shares: the generated items of every DynamoDB type and their checksums
(``items``), and the connector 4.11.0 export format (``connector_format``)."""
