"""Import every model so Alembic and ``db.create_all`` see the whole schema."""

from portal.accounts.models import (  # noqa: F401
    Invitation,
    LoginFailure,
    Membership,
    Organisation,
    PasswordReset,
    Territory,
    User,
)
from portal.archive.models import IssuedArchive  # noqa: F401
from portal.assessment.models import Assessment, Bonus  # noqa: F401
from portal.audit.models import AuditChainHead, AuditEvent  # noqa: F401
from portal.conventions.models import (  # noqa: F401
    ClauseTemplate,
    Convention,
    ConventionVersion,
    DesignatedSigner,
    IssuedDocument,
    Signature,
    SignatureReminder,
    VersionReading,
)
from portal.design.models import (  # noqa: F401
    CommentMention,
    Design,
    DesignComment,
    DesignPresence,
    DesignSection,
    SectionRevision,
)
from portal.followup.models import (  # noqa: F401
    Answer,
    Attempt,
    Milestone,
    PromiseOutcome,
    RetainedAnswer,
)
from portal.immersions.models import (  # noqa: F401
    Debrief,
    DebriefAttendee,
    DebriefSkill,
    DebriefTrainee,
    Evaluation,
    EvaluationInvitation,
    EvaluationResult,
    Immersion,
    SkillRating,
    TutorAssessment,
)
from portal.lots.models import LotTrade, MarketLot  # noqa: F401
from portal.mail.models import OutboxAttachment, OutboxMessage  # noqa: F401
from portal.notifications.models import Notification, ReferentNotice  # noqa: F401
from portal.operations.dual_models import DualMembershipApproval  # noqa: F401
from portal.operations.models import (  # noqa: F401
    DiagnosisFigure,
    EmployerNeed,
    NeedsAnalysis,
    Operation,
    OperationEvent,
    Participant,
    Position,
)
from portal.recruitment.models import (  # noqa: F401
    JobPromise,
    Trainee,
    TraineeAccess,
    TraineeStatusChange,
)
from portal.reporting.models import ExportJob  # noqa: F401
from portal.resources.models import ReferenceDocument  # noqa: F401
from portal.steering.models import (  # noqa: F401
    SteeringAction,
    SteeringAttendance,
    SteeringCommittee,
    SteeringDecision,
    SteeringMeeting,
    SteeringMember,
)
