"""Payments and their allocations, the ledger (``services/``: post, reverse, report, allocation), the proofs
customers send with a transfer report (``proofs.py``), the statistics and the dashboard. Imports taqsit, customers
and installments; serves a customer's and a plan's payments (API and page panels)."""
