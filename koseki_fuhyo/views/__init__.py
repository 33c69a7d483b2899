"""Read-only screens of the 戸籍の附票: 戸籍検索 and the 戸籍・附票 page. Every view goes through the gate."""
