"""DomainVerification on Ciirus: the sub-account's verification, DKIM and SPF records all validate."""

from typing import Literal

from ..sending_domain.ciirus import CiirusSendingDomain
from .common import DomainVerificationInputs, VerificationHandler


class CiirusDomainVerificationInputs(DomainVerificationInputs):
    platform: Literal["ciirus"]


class CiirusDomainVerification(VerificationHandler):
    Inputs = CiirusDomainVerificationInputs
    sending_domain = CiirusSendingDomain
