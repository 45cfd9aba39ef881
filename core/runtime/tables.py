"""Every table of the core, imported together: Alembic's metadata, the demo and tests use it.

Each domain owns its tables (`linkstar.core.<domain>.models`); this module only gathers them.
"""

from linkstar.core.billing.models import *  # noqa: F403
from linkstar.core.identity.models import *  # noqa: F403
from linkstar.core.kernel.events import *  # noqa: F403
from linkstar.core.kpi.models import *  # noqa: F403
from linkstar.core.ledger.models import *  # noqa: F403
from linkstar.core.live.models import *  # noqa: F403
from linkstar.core.marketplace.models import *  # noqa: F403
from linkstar.core.onboarding.models import *  # noqa: F403
from linkstar.core.providers.models import *  # noqa: F403
from linkstar.core.standing.models import *  # noqa: F403
