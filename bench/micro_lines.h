#pragma once

#include <array>
#include <string_view>

namespace poolwatch::bench {

// Lines as bench/gen_log.py writes them (the project's format), weighted roughly as in its logs:
// mostly plain requests on blue, a retry on green, one nginx answered itself, escaped quotes.
inline constexpr std::array<std::string_view, 8> kSampleLines = {
    R"L(10.2.139.196 - - [26/Nov/2026:07:00:30 +0000] "GET /api/v1/products?page=20&sort=price HTTP/1.1" 200 4934 "-" "ShopApp/5.3.1 (iPhone; iOS 18.1.1; Scale/3.00)" pool=blue release=v1.5.0 upstream_status=200 upstream_addr=127.0.0.1:8081 request_time=0.012 upstream_response_time=0.011)L",
    R"L(10.3.147.66 - - [26/Nov/2026:07:00:30 +0000] "GET /api/v1/products/18203 HTTP/1.1" 200 6401 "https://shop.example.com/cart" "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86" pool=blue release=v1.5.0 upstream_status=200 upstream_addr=127.0.0.1:8081 request_time=0.039 upstream_response_time=0.038)L",
    R"L(10.2.92.39 - - [26/Nov/2026:07:00:30 +0000] "GET /version HTTP/1.1" 200 802 "-" "okhttp/4.12.0" pool=blue release=v1.5.0 upstream_status=200 upstream_addr=127.0.0.1:8081 request_time=0.004 upstream_response_time=0.003)L",
    R"L(10.1.208.148 - - [26/Nov/2026:07:00:31 +0000] "POST /api/v1/cart/items HTTP/1.1" 200 1523 "-" "ShopApp/5.3.0 (Android 14; SM-S918B)" pool=blue release=v1.5.0 upstream_status=200 upstream_addr=127.0.0.1:8081 request_time=0.015 upstream_response_time=0.014)L",
    R"L(10.0.8.38 - - [26/Nov/2026:07:00:31 +0000] "GET /api/v1/cart HTTP/1.1" 200 3166 "-" "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1.1 Mobile/15E148 Safari/604.1" pool=blue release=v1.5.0 upstream_status=200 upstream_addr=127.0.0.1:8081 request_time=0.008 upstream_response_time=0.007)L",
    R"L(10.3.239.91 - - [26/Nov/2026:07:00:31 +0000] "GET /api/v1/search?q=%22usb+c+hub%22&cat=7 HTTP/1.1" 200 227 "-" "Mozilla/5.0 (compatible; \x22ShopMonitor\x22/3.2; +https://status.example.com/\x22about\x22)" pool=green release=v2.0.1 upstream_status=500, 200 upstream_addr=127.0.0.1:8081, 127.0.0.1:8082 request_time=0.045 upstream_response_time=0.031, 0.013)L",
    R"L(10.0.92.17 - - [26/Nov/2026:07:00:31 +0000] "GET /nginx_status HTTP/1.1" 200 97 "-" "Prometheus/2.42.0" pool=- release=- upstream_status=- upstream_addr=- request_time=0.000 upstream_response_time=-)L",
    R"L(10.0.89.12 - - [26/Nov/2026:07:00:32 +0000] "GET /api/v1/products?page=3&sort=price HTTP/1.1" 200 8964 "https://www.google.com/" "python-requests/2.31.0" pool=blue release=v1.5.0 upstream_status=200 upstream_addr=127.0.0.1:8081 request_time=0.015 upstream_response_time=0.014)L",
};

}  // namespace poolwatch::bench
