"""DomainVerification on Cakemail: the account's DKIM key for the domain is active."""

from typing import Literal

from ..sending_domain.cakemail import CakemailSendingDomain
from .common import DomainVerificationInputs, VerificationHandler


class CakemailDomainVerificationInputs(DomainVerificationInputs):
    platform: Literal["cakemail"]


class CakemailDomainVerification(VerificationHandler):
    Inputs = CakemailDomainVerificationInputs
    sending_domain = CakemailSendingDomain
