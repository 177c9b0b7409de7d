"""Customers: who buys on installment. Imports only taqsit; their plans and payments are drawn by the apps above."""
