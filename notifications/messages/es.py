"""Mensajes en español. Spanish messages, with the same fields as en.py."""

MESSAGES = {
    "reminder_upcoming": {
        "subject": "Recordatorio de pago: {amount} vence el {due_date}",
        "email": (
            "Estimado/a {customer}:\n\n"
            "Le recordamos que la cuota {number} de su plan {plan} con {merchant}, por {amount}, "
            "vence el {due_date}.\n\n"
            "Gracias,\n{merchant}"
        ),
        "sms": "{merchant}: la cuota {number} del plan {plan}, por {amount}, vence el {due_date}.",
    },
    "reminder_due_today": {
        "subject": "Pago que vence hoy: {amount}",
        "email": (
            "Estimado/a {customer}:\n\n"
            "La cuota {number} de su plan {plan} con {merchant}, por {amount}, vence hoy, {due_date}.\n\n"
            "Gracias,\n{merchant}"
        ),
        "sms": "{merchant}: la cuota {number} del plan {plan}, por {amount}, vence hoy ({due_date}).",
    },
    "overdue_alert": {
        "subject": "Pago vencido: {amount} vencía el {due_date}",
        "email": (
            "Estimado/a {customer}:\n\n"
            "La cuota {number} de su plan {plan} con {merchant} vencía el {due_date} y sigue pendiente. "
            "Importe pendiente: {amount}.\n\n"
            "Por favor, pague lo antes posible o contáctenos.\n{merchant}"
        ),
        "sms": "{merchant}: la cuota {number} del plan {plan} vencía el {due_date}. Pendiente: {amount}.",
    },
    "staff_digest": {
        "subject": "{merchant}: resumen del {day}",
        "body": (
            "Cuotas vencidas nuevas: {new_overdue} ({new_overdue_amount}).\n"
            "Total de cuotas vencidas: {overdue}.\n"
            "Planes pendientes de aprobación: {pending_approvals}."
        ),
    },
}
