"""Maps the core's dataclasses onto the tables (cosmicpython's classical mapping)."""

from __future__ import annotations

from sqlalchemy.orm import composite, registry

from core import domain, mail
from core.books import records
from storage import tables

mapper_registry = registry(metadata=tables.metadata)
_started = False


def start_mappers() -> None:
    """Idempotent: the bot, the worker and every test may call it."""
    global _started
    if _started:
        return
    _started = True
    m = mapper_registry.map_imperatively
    m(domain.Office, tables.offices)
    m(domain.Person, tables.people)
    m(domain.Identity, tables.identities)
    m(domain.OfficeMember, tables.office_members)
    # The document counter is the repository's alone (an atomic UPDATE), never an attribute.
    m(
        domain.Organization,
        tables.organizations,
        exclude_properties=[tables.organizations.c.last_document_number],
    )
    m(domain.OrganizationMember, tables.organization_members)
    m(domain.OfficeAccess, tables.office_access)
    m(domain.Invite, tables.invites)
    # The version column makes a stale write fail instead of silently winning.
    d = tables.documents.c
    m(
        domain.Document,
        tables.documents,
        version_id_col=d.version,
        properties={
            # No return: every column NULL, and the attribute None.
            "last_return": composite(
                domain.Return,
                d.return_reason,
                d.return_note,
                d.returned_by,
                d.returned_at,
                d.return_problem,
                d.return_auto,
            ),
        },
    )
    m(domain.StoredFile, tables.stored_files)
    m(domain.Job, tables.jobs)
    m(domain.AuditEntry, tables.audit_log)
    # Reporting deadlines (issue 6).
    m(domain.ReportingSettings, tables.reporting_settings)
    m(domain.DueDateOverride, tables.due_date_overrides)
    m(domain.FiledReport, tables.filed_reports)
    m(domain.SentNotice, tables.sent_notices)
    m(domain.OfficeSchedule, tables.office_schedules)
    # Books and exports (issue 13).
    m(records.ExportRecord, tables.exports)
    m(records.ClosedPeriod, tables.closed_periods)
    m(records.BooksSettings, tables.books_settings)
    # Documents by e-mail (issue 14).
    m(mail.MailAddress, tables.mail_addresses)
    m(mail.MailSender, tables.mail_senders)
    m(mail.InboundMail, tables.inbound_mails)
