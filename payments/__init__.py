"""Payments and their allocations, the ledger (``services/``: post, reverse, allocation), the statistics and the
dashboard. Imports taqsit, customers and installments; serves a customer's and a plan's payments (API and page
panels)."""
