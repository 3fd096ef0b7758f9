"""The health dashboard's selectors that the HTML and API tests do not pin down on their own."""

import pytest

from tamarind.dashboards.health_selectors import thresholds
from tamarind.health.selectors import live_version
from tamarind.renewals.models import RenewalSettings

pytestmark = pytest.mark.django_db


def test_indicator_thresholds_take_the_renewal_task_lead_from_the_renewals_settings():
    assert thresholds(live_version().spec()).renewal_months == 6
    RenewalSettings.objects.create(pk=RenewalSettings.SINGLETON_PK, task_lead_months=3)
    assert thresholds(live_version().spec()).renewal_months == 3
