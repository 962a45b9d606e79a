#!/bin/sh
# Run inside the image the imagebuilder end-to-end test declares.
echo "greet: $GREETING in $(pwd) as $(id -u)"
cat /srv/app/words.txt
