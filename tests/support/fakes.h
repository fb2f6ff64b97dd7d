// The SDK's test doubles now live in the installed plugin test kit; kept for the core's tests.
#pragma once

#include <natomedia/testing/doubles.h>
