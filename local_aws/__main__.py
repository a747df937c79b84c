import sys

from local_aws.core.runtime.cli import main

sys.exit(main())
