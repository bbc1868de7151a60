"""Quality inspection (质检): automatic flags over a call's turns, scoring forms, sampling."""
