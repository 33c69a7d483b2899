"""URLs of 異動 entry (form → 確認 → 記録). Screens start from nothing (転入, 職権記載), from a 世帯 (with
`?resident=<id>` preselecting members) or from a 住民票."""

from django.urls import path

from .views.changes import corrections, entries, households, menu, moves, removals

app_name = "registry_changes"

urlpatterns = [
    path("", menu.menu, name="menu"),
    path("find/<slug:kind>/", menu.find, name="find"),
    path("locks/", menu.lock_list, name="locks"),
    # 記載
    path("move-in/", entries.move_in, name="move_in"),
    path("birth/<int:household_id>/", entries.birth, name="birth"),
    path("ex-officio-entry/", entries.ex_officio_entry, name="ex_officio_entry"),
    # 修正
    path("move-within/<int:household_id>/", moves.move_within, name="move_within"),
    path("household-head/<int:household_id>/", households.change_household_head, name="change_household_head"),
    path("split/<int:household_id>/", households.split_household, name="split_household"),
    path("merge/<int:household_id>/", households.merge_households, name="merge_households"),
    path("amend/<int:resident_id>/", corrections.ex_officio_amendment, name="ex_officio_amendment"),
    # 消除
    path("move-out/<int:household_id>/", removals.move_out, name="move_out"),
    path("death/<int:resident_id>/", removals.death, name="death"),
    path("ex-officio-removal/<int:household_id>/", removals.ex_officio_removal, name="ex_officio_removal"),
]
