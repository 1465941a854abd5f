#include "alerting/notification.h"
