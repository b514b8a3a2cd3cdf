from querylang.testing import conformance_tests

conformance_tests("gcore", "fastly", "stackpath", "baishan")
