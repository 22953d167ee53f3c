"""Texts the bot posts to the agency chat: lead cards, questions, service notices.

Literal markup only; every user value is escaped by bot/cards.py before it is inserted.
"""

LEAD_TAG = "#lead_{id}"
QUESTION_TAG = "#вопрос"
QUESTION_NUMBERED_TAG = "#вопрос_{id}"

CARD_TITLE = "<b>Новая заявка из брифа</b>"
CARD_TITLE_CALLBACK = "<b>Просьба перезвонить</b>"
CARD_TITLE_CONTACT = "<b>Просьба связаться</b>"
CARD_EMPTY = "—"
CARD_ADDITIONS = "<b>Дополнения клиента:</b>"
CARD_CLIENT = "<b>Клиент:</b>"
CARD_SOURCE = "<b>Источник:</b>"
CARD_SOURCE_DIRECT = "прямой переход"
CARD_CREATED = "<b>Создана:</b>"
CARD_PROFILE_FALLBACK = "профиль в Telegram"
CARD_FIELD = "<b>{label}:</b>"
CARD_STATUS = "<b>Статус:</b> {status} — {who}, {when}"

# Work statuses of a lead (set from the agency chat) and the card's buttons that set them.
STATUS_LABELS = {
    "new": "🆕 Новая",
    "work": "🔧 В работе",
    "kp": "📨 КП отправлено",
    "success": "✅ Успех",
    "refused": "❌ Отказ",
    "spam": "🚫 Спам",
}
STATUS_BUTTONS = {
    "work": "Взять в работу",
    "kp": "КП отправлено",
    "success": "Успех",
    "refused": "Отказ",
    "spam": "Спам",
}
STATUS_CURRENT = "• {label} •"  # the button of the lead's current status
STAFF_FALLBACK = "сотрудник"
BTN_TEACH = "➕ Добавить в FAQ"
TIME_FORMAT = "%d.%m.%Y %H:%M"

REDACTED_WITHDRAWAL = "Заявка {tag}: данные удалены по запросу пользователя (согласие отозвано)."
REDACTED_RETENTION = "Заявка {tag}: данные удалены — истёк срок их хранения."

QUESTION_TITLE = "<b>Вопрос менеджеру</b>"
QUESTION_FROM = "<b>От:</b>"
QUESTION_EMPTY = "(пустой вопрос)"
REDACTED_QUESTION_WITHDRAWAL = "Вопрос {tag}: удалён по запросу пользователя (согласие отозвано)."
REDACTED_QUESTION_RETENTION = "Вопрос {tag}: удалён — истёк срок хранения."

DUPLICATE_NOTE = "Дубликат карточки {tag}: основная карточка — другое сообщение с этим номером."
DUPLICATE_NOTE_NOTICE = "Дубликат служебного уведомления."

NOTICE_WITHDRAWN = (
    "⚠️ <b>Пользователь отозвал согласие на обработку персональных данных.</b>\n"
    "{cards}"
    "Удалите копии этих данных, сделанные вне бота: в CRM, почте, заметках, таблицах."
)
NOTICE_WITHDRAWN_CARDS = "Очищено в этом чате: {tags}.\n"
NOTICE_NOT_CLEANED = (
    "Не удалось очистить: {tags} — бот не может изменить эти сообщения (например, они остались "
    "в группе до её преобразования в супергруппу). Удалите их вручную.\n"
)
NOTICE_MAYBE_TWICE = (
    "Карточка {tags} могла прийти в чат дважды (сбой связи при отправке): если видите копию, "
    "удалите её.\n"
)
NOTICE_UPDATED = "✏️ Клиент исправил или дополнил заявку {tag}: карточка выше обновлена."
NOTICE_UPDATED_NO_LEAD = "✏️ Клиент исправил или дополнил свою заявку."
NOTICE_RETENTION = (
    "🗑 <b>Истёк срок хранения персональных данных.</b>\n"
    "{cards}"
    "Удалите копии этих данных, сделанные вне бота: в CRM, почте, заметках, таблицах."
)
NOTICE_RETENTION_CARDS = "Данные удалены, в этом чате очищено: {tags}.\n"
NOTICE_GENERIC = "ℹ️ Служебное уведомление бота."
NOTICE_GENERIC_LEADS = "ℹ️ Служебное уведомление по заявкам {tags}."
