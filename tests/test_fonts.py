from PIL import Image, ImageDraw, ImageFont

from messages.fonts import cjk_font_path


def test_the_cjk_font_installs_with_the_project():
    assert cjk_font_path().is_file()


def test_the_cjk_font_draws_traditional_and_simplified_characters_not_boxes():
    font = ImageFont.truetype(str(cjk_font_path()), 32)
    tofu = font.getmask("\uffff").getbbox()

    def ink(text: str) -> bytes:
        image = Image.new("L", (64, 48), 0)
        ImageDraw.Draw(image).text((4, 4), text, font=font, fill=255)
        return image.tobytes()

    assert ink("團") != ink("团") != ink("\uffff")
    assert font.getmask("鑽").getbbox() != tofu
