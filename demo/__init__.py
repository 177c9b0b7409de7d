"""The demo data: a loader that writes two merchants and their business through every app's services, and
``manage.py demo_load``. It stands above every app, so nothing imports it."""
