"""Products, plans and their schedules, the plan lifecycle (``services/``: products, plans, lifecycle, fees; the
schedule engine in ``schedule.py``, its input checks in ``schedule_checks.py``, its words in ``schedule_terms.py``).
Imports taqsit and customers; serves a customer's plans (``/api/customers/{id}/plans/``, the customer page's plans
panel)."""
