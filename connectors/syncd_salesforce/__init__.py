"""The Salesforce connector: closed-lost opportunities and rejected leads in, follow-up tasks,
opt-out flags and campaign enrolments out, through simple-salesforce. Registered as the
`salesforce` entry point of `syncd.connectors`; `fake.py` is the local Salesforce it is
tested, demonstrated and benchmarked against."""

from syncd_salesforce.plugin import SalesforcePlugin, plugin

__all__ = ["SalesforcePlugin", "plugin"]
