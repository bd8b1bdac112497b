"""Tables: `central` lives in the platform database, `tenant` in every tenant's own database."""
