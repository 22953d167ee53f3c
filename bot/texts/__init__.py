"""All user-facing Russian texts, one module per area, so wording changes never touch logic.

Texts are HTML (the bot's parse mode). Placeholders are filled with str.format and every
user-supplied value is escaped by the caller with aiogram.utils.text_decorations / html.quote.
"""
