"""Share posters: a PNG of an open group buy (product, price, deadline in the community's time
zone, the community) with the member's own referral QR code; Chinese drawn as Chinese."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageFont

from messages.fonts import cjk_font_path
from messages.poster import SIZE, Box, Lines, draw_poster, qr_matrix
from tests.conftest import say
from tests.distribution_helpers import approve, everyone_distributes
from tests.test_conversations import member

LINES = Lines("北區團購社", "鑽石級台灣高山茶禮盒（團購價）", "每份 NT$1,200",
              "截止 2026-03-12 20:00（週四）", "掃描 QR 碼加入，一起跟團！")
LINK = "https://t.me/tuanbot?start=ref_ABCDEFGH23"


def modules(image: Image.Image, box: Box) -> list[list[bool]]:
    """Read the QR modules back from the pixels: the colour at each module's centre."""
    grey = image.convert("L")
    half = box.module // 2
    return [[grey.getpixel((box.left + c * box.module + half, box.top + r * box.module + half)) < 128
             for c in range(box.count)] for r in range(box.count)]


def test_the_poster_is_a_png_of_the_expected_size(tmp_path):
    image, _ = draw_poster(LINES, LINK)
    path = tmp_path / "p.png"
    image.save(path, format="PNG")
    with Image.open(path) as read:
        assert read.format == "PNG" and read.size == SIZE
        read.load()


def test_the_qr_code_on_the_poster_is_the_referral_links_code_module_for_module():
    image, box = draw_poster(LINES, LINK)
    drawn = modules(image, box)
    assert drawn == qr_matrix(LINK)
    assert drawn != qr_matrix(LINK.replace("ABCDEFGH23", "ABCDEFGH24"))
    quiet = image.convert("L").crop((box.left - 4 * box.module, box.top - 4 * box.module,
                                     box.left - 1, box.top - 1))
    assert quiet.getextrema() == (255, 255)  # the quiet zone is white


def test_every_character_on_the_poster_has_a_glyph_not_a_box():
    font = ImageFont.truetype(str(cjk_font_path()), 48)
    tofu = font.getmask("\uffff")
    for text in (LINES.community, LINES.title, LINES.price, LINES.deadline, LINES.scan):
        for char in set(text) - {" "}:
            mask = font.getmask(char)
            assert (mask.size, bytes(mask)) != (tofu.size, bytes(tofu)), char


def test_the_text_regions_carry_the_words_not_boxes():
    image, box = draw_poster(LINES, LINK)
    boxes = Lines(*["\uffff" * len(t) for t in (LINES.community, LINES.title, LINES.price,
                                                LINES.deadline, LINES.scan)])
    tofu, _ = draw_poster(boxes, LINK)
    text_area = (0, 0, SIZE[0], box.top - 10)
    assert image.crop(text_area).tobytes() != tofu.crop(text_area).tobytes()
    title = image.convert("L").crop((60, 190, SIZE[0] - 60, 300))
    assert title.getextrema()[0] < 100  # dark ink where the product's name is


# Through the console ------------------------------------------------------------------------------


def open_buy(console, title: str = "蘋果") -> None:  # type: ignore[no-untyped-def]
    say(console, f"leader@demo: /open {title} | 350 | 100 | 明天 20:00")


def distributor(console, name: str = "amy") -> None:  # type: ignore[no-untyped-def]
    say(console, f"{name}: /start")
    approve(console, member(console, name).id)  # type: ignore[arg-type]


def test_poster_gives_a_distributor_a_png_with_their_referral_qr_and_a_caption(console):
    distributor(console)
    open_buy(console)
    out = say(console, "amy: /poster")
    assert "#1 蘋果 的宣傳海報" in out[0]
    code = member(console, "amy").referral_code
    assert f"tuanbot://start?ref={code}" in out[0]
    path = Path(out[1].split(": ", 1)[1])
    with Image.open(path) as image:
        assert image.size == SIZE
        picture = image.convert("RGB")
    _, box = draw_poster(LINES, f"tuanbot://start?ref={code}")
    assert modules(picture, box) == qr_matrix(f"tuanbot://start?ref={code}")


def test_poster_with_several_open_buys_asks_which_and_hash_n_picks_one(console):
    distributor(console)
    open_buy(console, "蘋果")
    open_buy(console, "鳳梨酥")
    asked = say(console, "amy: /poster")
    assert "#1" in asked[0] and "#2" in asked[0]
    out = say(console, "amy: /poster #2")
    assert "#2 鳳梨酥 的宣傳海報" in out[0] and out[1].endswith(".png")


def test_poster_bad_input_gets_a_clear_answer(console):
    distributor(console)
    assert "沒有進行中的團購" in say(console, "amy: /poster")[0]
    open_buy(console)
    assert "#99" in say(console, "amy: /poster #99")[0]
    assert "用法：/poster" in say(console, "amy: /poster please")[0]
    say(console, "leader@demo: /close")
    assert "#1 蘋果 已經結單了" in say(console, "amy: /poster #1")[0]


def test_a_member_who_is_no_distributor_is_told_how_to_become_one_and_gets_no_poster(console):
    say(console, "bob: /start")
    open_buy(console)
    out = say(console, "bob: /poster")
    assert len(out) == 1 and "宣傳海報只提供給分銷商：輸入 /apply 申請" in out[0]
    say(console, "bob: /apply 我朋友很多")
    assert "你的分銷商申請還在審核中" in say(console, "bob: /poster")[0]
    say(console, "leader@demo: /approve @bob")
    assert say(console, "bob: /poster")[1].endswith(".png")
    say(console, "leader@demo: /suspend @bob 違規")
    assert "你的分銷商資格已停權" in say(console, "bob: /poster")[0]


def test_when_every_member_distributes_every_member_gets_a_poster(console):
    everyone_distributes(console)
    say(console, "cat: /start")
    open_buy(console)
    assert say(console, "cat: /poster")[1].endswith(".png")


# On Telegram: the poster goes out as a photo ------------------------------------------------------


@pytest.mark.asyncio
async def test_on_telegram_the_poster_is_sent_as_a_photo_with_the_referral_link(app, channel, fake,
                                                                                  clock):
    from sqlalchemy import update

    from models.db import UnitOfWork
    from models.tables import Community
    from tests.telegram_helpers import AMY, GROUP, LEADER, bound_group, member_of
    from tests.telegram_helpers import say as tell

    await bound_group(app, channel, fake, clock)
    with UnitOfWork(app.deps.sessions) as uow:
        uow.session.execute(update(Community).where(Community.slug == "shop")
                            .values(programme={"distribution": {"mode": "everyone"}}))
        uow.commit()
    await tell(channel, "/open 蘋果 | 350 | 100 | 2h", LEADER, GROUP, username="boss")
    clock.advance(minutes=1)
    fake.clear()
    await tell(channel, "/poster", AMY, GROUP, username="amy")
    [photo] = fake.sent("sendPhoto", chat_id=GROUP)
    assert photo["photo"]["content"].startswith(b"\x89PNG\r\n\x1a\n")
    code = member_of(app, AMY).referral_code
    assert f"https://t.me/tuanbot?start=ref_{code}" in photo["caption"]
    assert "#1 蘋果 的宣傳海報" in photo["caption"]
