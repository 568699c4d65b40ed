"""Test documents made on the fly: a real (tiny) PDF with a text layer, a news page."""

from __future__ import annotations


def make_pdf(lines: list[str], title: str = "") -> bytes:
    """A valid one-page PDF whose text layer holds `lines` (Helvetica, ASCII)."""
    ops = ["BT", "/F1 11 Tf", "14 TL", "72 740 Td"]
    for line in lines:
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        ops.append(f"({escaped}) Tj T*")
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    info = f"<< /Title ({title}) >>" if title else "<< >>"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        info.encode("latin-1"),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def news_page(
    title: str,
    body_paragraphs: list[str],
    *,
    outlet: str = "Example Times",
    author: str = "Jane Doe",
    published: str = "2022-06-17T10:00:00Z",
    url: str = "https://example.com/news/story?utm_source=feed",
    charset: str = "utf-8",
) -> str:
    """A news page with navigation, footer and the usual metadata tags."""
    paragraphs = "\n".join(f"<p>{p}</p>" for p in body_paragraphs)
    return f"""<!doctype html><html><head><meta charset="{charset}">
<title>{title} | {outlet}</title>
<meta property="og:site_name" content="{outlet}">
<meta property="og:title" content="{title}">
<meta property="article:published_time" content="{published}">
<meta name="author" content="{author}">
<link rel="canonical" href="{url}">
</head><body>
<nav><a href="/">Home</a> | <a href="/world">World</a> | <a href="/sports">Sports</a></nav>
<article><h1>{title}</h1>{paragraphs}</article>
<footer>Copyright 2022 {outlet}. All rights reserved. Subscribe to our newsletter.</footer>
</body></html>"""
