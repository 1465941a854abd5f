#include "exporter/log_record.h"
