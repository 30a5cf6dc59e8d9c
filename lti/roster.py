"""Names and Role Provisioning Services: a course's roster pulled from its platform.

Each active member gets their account here (the one a launch would make, by issuer and
subject), so that the gradebook lists students who have not launched yet and their
scores can be posted once they have work. Instructors become staff in the Instructors
group, as at a launch. Nobody is removed: a member who left stays, inactive in the
context's memberships (django-lti's `LtiMembership.is_active`).
"""

from __future__ import annotations

from lti_tool.models import LtiContext, LtiUser
from pylti1p3.names_roles import NamesRolesProvisioningService
from pylti1p3.service_connector import ServiceConnector

from lti import tool
from lti.tool import PlatformSession


def sync(context: LtiContext) -> int:
    """Pull the context's members; how many active ones have an account."""
    if not context.memberships_url:
        raise ValueError(f"{context}: its launches gave no Names and Role Provisioning URL")
    tool.ensure_key()
    registration = context.deployment.registration
    nrps = NamesRolesProvisioningService(
        ServiceConnector(registration.to_registration(), PlatformSession()),
        {"context_memberships_url": context.memberships_url, "service_versions": ["2.0"]},
    )
    members = [{"status": "Active", "roles": [], **m} for m in nrps.get_members()]
    context.update_memberships(members)
    count = 0
    for member in members:
        if member["status"] != "Active":
            continue
        user = tool.account_for(registration.issuer, member["user_id"], member)
        LtiUser.objects.filter(registration=registration, sub=member["user_id"]).exclude(
            auth_user=user
        ).update(auth_user=user)
        tool.apply_roles(user, member["roles"])
        count += 1
    return count
