"""A reference document of the Région, stored under the instance folder."""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.core.enums import TitledEnum, db_enum, titled
from portal.core.time import utcnow
from portal.extensions import db


@titled({"pdf": _l("PDF"), "docx": _l("Document Word (DOCX)")})
class DocumentKind(TitledEnum):
    """The file types accepted, as their first bytes tell (never the name or the browser)."""

    PDF = "pdf"
    DOCX = "docx"

    @property
    def mimetype(self) -> str:
        return {
            DocumentKind.PDF: "application/pdf",
            DocumentKind.DOCX: (
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            ),
        }[self]


class ReferenceDocument(db.Model):
    """A document of the « Pour aller plus loin » page; the file has a random name on disk."""

    __tablename__ = "reference_documents"
    __table_args__ = (CheckConstraint("size > 0", name="size_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[DocumentKind] = mapped_column(db_enum(DocumentKind, 10))
    # The name shown to people (and offered at download), never used on disk.
    filename: Mapped[str] = mapped_column(String(200))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    uploaded_by: Mapped[User | None] = relationship()
