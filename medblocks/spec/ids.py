"""Id prefixes the API gives its own objects: a caller's `patient_id` must not start with one.

Kept once here, below both the sandbox (which rejects such ids) and the dashboard (which says so
on the Launch form before any call).
"""

RESERVED_PATIENT_PREFIXES = ("pat_", "pf_", "conn_", "fhirsrc_", "wh_", "evt_")
