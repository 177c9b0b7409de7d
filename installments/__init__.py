"""Products, plans and their schedules, the plan lifecycle. Imports taqsit and customers; serves a customer's plans
(``/api/customers/{id}/plans/``, the customer page's plans panel)."""
