"""A PTB request object that answers Bot API calls in-process: no network, same JSON path."""

from __future__ import annotations

import json
import time
from typing import Any

from telegram.request import BaseRequest, RequestData

BOT = {"id": 999, "is_bot": True, "first_name": "bench", "username": "bench_bot"}


class LoopbackRequest(BaseRequest):
    """Answers getMe and the send methods with well-formed results, as the Bot API would."""

    def __init__(self) -> None:
        self.calls = 0
        self._ids = 0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None,
        read_timeout: Any = None, write_timeout: Any = None, connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        self.calls += 1
        api_method = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data else {}
        if api_method == "getMe":
            result: Any = BOT
        elif api_method.startswith("send"):
            self._ids += 1
            chat_id = int(params.get("chat_id", 0))
            result = {
                "message_id": self._ids, "date": int(time.time()), "from": BOT,
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
                "text": params.get("text") or params.get("caption") or "",
            }
        else:
            result = True
        return 200, json.dumps({"ok": True, "result": result}).encode()


def text_update(update_id: int, text: str, user_id: int, chat_id: int | None = None) -> dict[str, Any]:
    chat = chat_id if chat_id is not None else user_id
    message: dict[str, Any] = {
        "message_id": update_id, "date": int(time.time()), "text": text,
        "from": {"id": user_id, "is_bot": False, "first_name": f"user{user_id}",
                 "username": f"user{user_id}", "language_code": "zh-hant"},
        "chat": {"id": chat, "type": "private" if chat == user_id else "supergroup"},
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0,
                                "length": len(text.split()[0])}]
    return {"update_id": update_id, "message": message}
