from django.urls import path

from . import views, views_approvals

app_name = "accounts"

urlpatterns = [
    path("", views.account_home, name="home"),
    path("password/", views.password_change, name="password_change"),
    path("otp/", views.otp_setup, name="otp"),
    path("otp/verify/", views.otp_verify, name="otp_verify"),
    path("users/", views.user_list, name="users"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/<int:user_id>/", views.user_detail, name="user_detail"),
    path("users/<int:user_id>/<slug:action>/", views.user_action, name="user_action"),
    path("locks/lift/", views.lock_lift, name="lock_lift"),
    path("approvals/", views_approvals.approval_list, name="approvals"),
    path("approvals/<int:approval_id>/", views_approvals.approval_detail, name="approval"),
    path("password/reset/", views.password_reset_complete, name="password_reset"),
]
