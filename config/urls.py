from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from common import views as common_views
from transfers import urls as transfers_urls

admin.site.site_header = "住民基本台帳・戸籍の附票 管理"
admin.site.site_title = "住基・附票 管理"
admin.site.index_title = "運用管理"

urlpatterns = [
    path("", common_views.home, name="home"),
    path("healthz", common_views.health, name="health"),
    path("favicon.ico", common_views.favicon, name="favicon"),
    path("login/", auth_views.LoginView.as_view(template_name="registration/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("residents/", include("registry.urls")),
    path("changes/", include("registry.change_urls")),
    path("koseki/", include("koseki_fuhyo.urls")),
    path("filings/", include("koseki_fuhyo.filing_urls")),
    path("audit/", include("audit.urls")),
    path("accounts/", include("accounts.urls")),
    path("notices/", include(transfers_urls.notice_urls)),
    path("transfers/", include(transfers_urls.machine_urls)),
    path("admin/", admin.site.urls),
]

# Japanese pages in the site's layout, identical for a restricted record and one that does not exist.
handler400 = "common.error_pages.bad_request"
handler403 = "common.error_pages.permission_denied"
handler404 = "common.error_pages.page_not_found"
