"""Read-only screens of the 住民基本台帳: 住民検索 and the 住民票 page. Every view goes through the gate."""
