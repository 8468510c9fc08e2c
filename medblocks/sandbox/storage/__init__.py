"""Storage: the SQLite store (`store`) and what a first start puts in it (`seed`, with the
synthetic FHIR records of `ehr`)."""
