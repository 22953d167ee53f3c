"""Texts of the brief conversation and its option catalogues (codes are stored, labels shown)."""

NETWORKS = {
    "vk": "ВКонтакте",
    "ok": "Одноклассники",
    "tg": "Telegram",
    "ig": "Instagram*",
    "fb": "Facebook*",
    "yt": "YouTube",
    "other": "Другое",
}
META_NOTE = "* Instagram и Facebook принадлежат Meta, которая признана экстремистской организацией и запрещена в РФ."

GOALS = {
    "sales": "Продажи",
    "traffic": "Трафик на сайт",
    "reach": "Узнаваемость и охват",
    "reputation": "Репутация и отзывы",
    "promo": "Акции и запуск новинок",
    "community": "Сообщество вокруг бренда",
    "hiring": "Поиск сотрудников",
    "other": "Другое",
}

BUDGETS = {
    "lt30": "до 30 000 ₽",
    "30_70": "30 000 – 70 000 ₽",
    "70_150": "70 000 – 150 000 ₽",
    "gt150": "больше 150 000 ₽",
    "unknown": "Пока не знаю",
}

START_WHEN = {
    "asap": "Как можно скорее",
    "month": "В течение месяца",
    "quarter": "Через 1–3 месяца",
    "later": "Пока присматриваюсь",
}

CONTACT_METHODS = {
    "tg": "Telegram",
    "phone": "Звонок по телефону",
    "email": "E-mail",
}

FIELD_LABELS = {
    "business": "Что продаёте",
    "links": "Сайт и соцсети",
    "networks": "Соцсети для продвижения",
    "goals": "Цели",
    "budget": "Бюджет в месяц",
    "start_when": "Когда начать",
    "name": "Имя",
    "phone": "Телефон",
    "email": "E-mail",
    "contact_method": "Как связаться",
    "comment": "Комментарий",
}
