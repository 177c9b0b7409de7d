"""English messages. Fields: customer, merchant, plan, number, amount, due_date; the digest: day, new_overdue,
new_overdue_amount, overdue, pending_approvals."""

MESSAGES = {
    "reminder_upcoming": {
        "subject": "Payment reminder: {amount} due on {due_date}",
        "email": (
            "Dear {customer},\n\n"
            "This is a reminder that installment {number} of your plan {plan} with {merchant}, {amount}, "
            "is due on {due_date}.\n\n"
            "Thank you,\n{merchant}"
        ),
        "sms": "{merchant}: installment {number} of plan {plan}, {amount}, is due on {due_date}.",
    },
    "reminder_due_today": {
        "subject": "Payment due today: {amount}",
        "email": (
            "Dear {customer},\n\n"
            "Installment {number} of your plan {plan} with {merchant}, {amount}, is due today, {due_date}.\n\n"
            "Thank you,\n{merchant}"
        ),
        "sms": "{merchant}: installment {number} of plan {plan}, {amount}, is due today ({due_date}).",
    },
    "overdue_alert": {
        "subject": "Overdue payment: {amount} was due on {due_date}",
        "email": (
            "Dear {customer},\n\n"
            "Installment {number} of your plan {plan} with {merchant} was due on {due_date} and is not paid yet. "
            "Amount outstanding: {amount}.\n\n"
            "Please pay as soon as you can, or contact us.\n{merchant}"
        ),
        "sms": "{merchant}: installment {number} of plan {plan} was due on {due_date}. Outstanding: {amount}.",
    },
    "staff_digest": {
        "subject": "{merchant}: summary for {day}",
        "body": (
            "New overdue installments: {new_overdue} ({new_overdue_amount}).\n"
            "All overdue installments: {overdue}.\n"
            "Plans waiting for approval: {pending_approvals}."
        ),
    },
}
