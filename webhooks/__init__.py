"""Webhooks for integrators: endpoints, the outbox of events, signed delivery. Imports the apps below it, never
notifications or auditlog (it stands beside them); the services announce events through taqsit/events.py."""
