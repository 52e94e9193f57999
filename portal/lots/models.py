"""Market lots: who holds which training, where, for which trades, and when."""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Organisation, Territory
from portal.core.enums import TitledEnum, db_enum, titled
from portal.core.time import utcnow
from portal.extensions import db


@titled(
    {
        "prepa_metiers": _l("Prépa Métiers"),
        "chantier_formation": _l("Chantier formation"),
        "se_former": _l("Se former au métier de"),
        "other": _l("Autre session de formation"),
    }
)
class Category(TitledEnum):
    """Parcours Métiers 2021/2024 categories that DEFI applies to; the sheet adds that any
    training session may become a DEFI (``OTHER``), so a need outside them is not refused."""

    PREPA_METIERS = "prepa_metiers"
    CHANTIER_FORMATION = "chantier_formation"
    SE_FORMER = "se_former"
    OTHER = "other"


lot_territories = Table(
    "lot_territories",
    db.Model.metadata,
    Column("lot_id", ForeignKey("market_lots.id", ondelete="CASCADE"), primary_key=True),
    Column("territory_id", ForeignKey("territories.id"), primary_key=True),
)


class MarketLot(db.Model):
    """A lot of the Région's training market, held by one organisme de formation."""

    __tablename__ = "market_lots"
    __table_args__ = (CheckConstraint("period_end >= period_start", name="period_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[Category] = mapped_column(db_enum(Category))
    holder_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    period_start: Mapped[int] = mapped_column(Integer)
    period_end: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    holder: Mapped[Organisation] = relationship()
    territories: Mapped[list[Territory]] = relationship(
        secondary=lot_territories, order_by="Territory.name"
    )
    trades: Mapped[list["LotTrade"]] = relationship(
        back_populates="lot", cascade="all, delete-orphan", order_by="LotTrade.rome_code"
    )

    @property
    def period_label(self) -> str:
        return f"{self.period_start}–{self.period_end}"

    @property
    def rome_codes(self) -> list[str]:
        return [t.rome_code for t in self.trades]

    def __str__(self) -> str:
        return f"{self.number} — {self.title}"


class LotTrade(db.Model):
    """A trade (ROME code) a lot covers."""

    __tablename__ = "lot_trades"
    __table_args__ = (UniqueConstraint("lot_id", "rome_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("market_lots.id", ondelete="CASCADE"))
    rome_code: Mapped[str] = mapped_column(String(5), index=True)

    lot: Mapped[MarketLot] = relationship(back_populates="trades")
