"""Page numbers known only at the end, printed in a single pass.

"Page X of Y" and the evidence index's page column refer to pages not yet laid
out. Instead of building the document twice, each such number is a PDF form
XObject: pages draw the form by name as they are laid out, and the forms' contents
(the numbers) are written once, when the document is saved. Memory stays
constant per page and time linear.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable


@dataclass
class PageBook:
    """Where things landed: anchor name -> first and last page; and the page count."""

    font: str
    size: float = 8
    anchors: dict[str, list[int]] = field(default_factory=dict)
    forms: dict[str, str] = field(default_factory=dict)  # form name -> anchor
    pages: int = 0

    def mark(self, anchor: str, page: int) -> None:
        seen = self.anchors.get(anchor)
        if seen is None:
            self.anchors[anchor] = [page, page]
        else:
            seen[0] = min(seen[0], page)
            seen[1] = max(seen[1], page)

    def text(self, anchor: str) -> str:
        if anchor == "#total":
            return str(self.pages)
        seen = self.anchors.get(anchor)
        if seen is None:
            return "—"
        return str(seen[0]) if seen[0] == seen[1] else f"{seen[0]}–{seen[1]}"

    def form_for(self, anchor: str) -> str:
        name = f"pageref{len(self.forms)}"
        self.forms[name] = anchor
        return name


def canvas_class(book: PageBook) -> type[Canvas]:
    class BookCanvas(Canvas):
        def save(self) -> None:
            for name, anchor in book.forms.items():
                self.beginForm(name)
                self.setFont(book.font, book.size)
                self.drawString(0, 0, book.text(anchor))
                self.endForm()
            super().save()

    return BookCanvas


class Anchor(Flowable):
    """Marks the page it lands on."""

    def __init__(self, book: PageBook, name: str) -> None:
        super().__init__()
        self.book, self.name = book, name
        self.width = self.height = 0

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        self.book.mark(self.name, self.canv.getPageNumber())


class PageRef(Flowable):
    """The page (or page range) of an anchor, for a table cell."""

    def __init__(self, book: PageBook, anchor: str) -> None:
        super().__init__()
        self.form = book.form_for(anchor)
        self.size = book.size

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return min(available_width, 40), self.size * 1.2

    def draw(self) -> None:
        self.canv.saveState()
        self.canv.translate(0, self.size * 0.25)
        self.canv.doForm(self.form)
        self.canv.restoreState()
