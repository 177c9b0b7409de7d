"""الرسائل بالعربية. Arabic messages, with the same fields as en.py."""

MESSAGES = {
    "reminder_upcoming": {
        "subject": "تذكير بالدفع: {amount} مستحق في {due_date}",
        "email": (
            "عزيزنا العميل {customer}،\n\n"
            "نذكّركم بأن القسط رقم {number} من خطتكم {plan} لدى {merchant} بمبلغ {amount} مستحق في {due_date}.\n\n"
            "شكرًا لكم،\n{merchant}"
        ),
        "sms": "{merchant}: القسط رقم {number} من الخطة {plan} بمبلغ {amount} مستحق في {due_date}.",
    },
    "reminder_due_today": {
        "subject": "دفعة مستحقة اليوم: {amount}",
        "email": (
            "عزيزنا العميل {customer}،\n\n"
            "القسط رقم {number} من خطتكم {plan} لدى {merchant} بمبلغ {amount} مستحق اليوم، {due_date}.\n\n"
            "شكرًا لكم،\n{merchant}"
        ),
        "sms": "{merchant}: القسط رقم {number} من الخطة {plan} بمبلغ {amount} مستحق اليوم ({due_date}).",
    },
    "overdue_alert": {
        "subject": "دفعة متأخرة: {amount} كان مستحقًا في {due_date}",
        "email": (
            "عزيزنا العميل {customer}،\n\n"
            "القسط رقم {number} من خطتكم {plan} لدى {merchant} كان مستحقًا في {due_date} ولم يُسدَّد بعد. "
            "المبلغ المتبقي: {amount}.\n\n"
            "يرجى السداد في أقرب وقت أو التواصل معنا.\n{merchant}"
        ),
        "sms": "{merchant}: القسط رقم {number} من الخطة {plan} كان مستحقًا في {due_date}. المتبقي: {amount}.",
    },
    "staff_digest": {
        "subject": "{merchant}: ملخص يوم {day}",
        "body": (
            "أقساط متأخرة جديدة: {new_overdue} ({new_overdue_amount}).\n"
            "جميع الأقساط المتأخرة: {overdue}.\n"
            "خطط بانتظار الموافقة: {pending_approvals}."
        ),
    },
}
