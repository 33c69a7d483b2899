"""URLs of the supervisor's screens: the access log, 閲覧制限・個別許可, the exports and the 管理簿. Every view is
gated."""

from django.urls import path

from .views import charts, exports, flags, ledger, log, restrictions, review
from .views.batch import batch_run_list
from .views.erasure import erasure_list, erasure_report

app_name = "audit"

urlpatterns = [
    path("log/", log.entry_list, name="log"),
    path("log/<int:log_entry_id>/", log.entry_detail, name="log_entry"),
    path("log/verify/", log.verify_chain, name="verify_chain"),
    path("review/", review.review_list, name="review"),
    path("charts/", charts.chart_page, name="charts"),
    path("flags/", flags.flag_list, name="flags"),
    path("flags/analyze/", flags.run_analysis, name="run_analysis"),
    path("flags/<int:flag_id>/review/", flags.flag_review_view, name="flag_review"),
    path("restrictions/", restrictions.restriction_list, name="restrictions"),
    path("restrictions/new/", restrictions.restrict, name="restrict"),
    path("restrictions/<int:restriction_id>/", restrictions.restriction_detail, name="restriction"),
    path("restrictions/<int:restriction_id>/lift/", restrictions.lift, name="lift"),
    path("restrictions/<int:restriction_id>/grant/", restrictions.grant, name="grant"),
    path("grants/", restrictions.grant_list, name="grants"),
    path("grants/<int:grant_id>/revoke/", restrictions.revoke, name="revoke"),
    path("batch/", batch_run_list, name="batch_runs"),
    path("erasures/", erasure_list, name="erasures"),
    path("erasures/<int:run_id>/report/", erasure_report, name="erasure_report"),
    path("exports/audit-log/", exports.audit_log_export, name="export_audit_log"),
    path("exports/records/", exports.records_export, name="export_records"),
    path("exports/<int:handover_id>/download/", exports.download, name="export_download"),
    path("ledger/", ledger.ledger_list, name="ledger"),
    path("ledger/print/", ledger.ledger_print, name="ledger_print"),
    path("ledger/<int:handover_id>/", ledger.ledger_detail, name="ledger_entry"),
]
